"""Sync: the protocol models shared with the school server (:mod:`visitapp.protocol.sync`),
the hybrid logical clock, and the client's sync engine."""
