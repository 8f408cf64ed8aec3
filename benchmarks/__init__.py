"""`make bench`: speed and size figures, printed as percentiles and ratios (never asserted in tests)."""
