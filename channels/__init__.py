"""Thin protocol adapters: SMTP (aiosmtpd) and Twilio webhooks (aiohttp).

Protocol in -> ``rules.decision.Contact`` -> ``await service.handle(...)`` -> protocol out.
Each channel declares the narrow Protocol it needs from the service; ``gateway`` wires it.
"""
