"""Code shared by every service of the speech-translation broadcast platform.

Shipped once, as the Lambda layer built from ``layers/shared``.
"""
