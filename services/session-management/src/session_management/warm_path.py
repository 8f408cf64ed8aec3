"""The talk's path warmed ahead of the speaker's first words.

``createSession`` (a new or resumed session) sends a warm-up (:mod:`broadcast_shared.warm_up`)
to every function the audio passes through before it is transcribed, as many environments of
each as ``platform.json``'s ``warm_ups.create_session`` says (``WARM_UP_FUNCTIONS``: two of
``sendAudio``, one of the transcription worker, which loads its recogniser for the session's
language); ``joinSession`` warms the translation pipeline for the language pair when a
language gets its first listener. So the first sentence does not pay for their cold starts.
The worker warms the pipeline again per listened language at the session's first audio.
Built once per environment, on first use, by the runtime (``SessionRuntime.warm_path``).
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.config import Config

from broadcast_shared.warm_up import WarmUp, WarmUpInvoker

#: a warm-up is worth one quick try: the speaker's answer has already gone out
WARM_UP_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2)


class WarmPath:
    def __init__(self, invoker: WarmUpInvoker) -> None:
        self._invoker = invoker

    def warm(self, environments: Mapping[str, int], source_language: str) -> int:
        """Send each function as many warm-ups as it wants warm environments, all at once (each asynchronous:
        Lambda runs overlapping ones in environments of their own); how many were sent."""
        event = WarmUp(source_language=source_language)
        return sum(
            self._invoker.send(name, event) for name, count in sorted(environments.items()) for _ in range(count)
        )

    def warm_translation(self, function_name: str, source_language: str, target_language: str) -> bool:
        """Let the pipeline load its engines for a language pair (nothing when no pipeline is configured)."""
        if not function_name:
            return False
        return self._invoker.send(
            function_name, WarmUp(source_language=source_language, target_language=target_language)
        )
