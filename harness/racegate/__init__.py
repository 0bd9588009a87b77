"""racegate: repeat C++ tests under ThreadSanitizer and schedule perturbation, bucket the races, gate CI."""

__version__ = "0.1.0"
