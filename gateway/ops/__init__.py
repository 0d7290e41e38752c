"""What the person who runs the gateway watches: logs, metrics and event-loop lag.

``logs`` sets up JSON or plain logging; ``metrics`` holds the Prometheus metrics;
``loop_lag`` measures how late the event loop runs.

Bottom of the house: uses nothing else of ``gateway``.
"""
