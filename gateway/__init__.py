"""The contact-gateway service: settings, app, contact service, store, admin, CLI."""
