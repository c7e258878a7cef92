"""Network: the embedded HTTP API, the webhook sender and sync between stations.

All of it runs in one background asyncio thread (`runtime.AsyncRuntime`), never the GUI thread.
"""
