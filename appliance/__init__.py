"""An offline, self-hosted customer-support appliance for small shops."""

__version__ = "0.1.0"
