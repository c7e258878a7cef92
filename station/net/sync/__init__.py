"""Sync between stations over NATS JetStream: the hub server, the wire format, the client."""
