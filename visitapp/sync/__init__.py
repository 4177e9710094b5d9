"""Sync: the protocol models shared with the school server (:mod:`visitapp.sync.protocol`),
the hybrid logical clock, and the client's sync engine."""
