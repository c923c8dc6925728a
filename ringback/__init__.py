"""ringback: self-hosted speed-to-lead outreach engine."""

__version__ = "0.1.0"
