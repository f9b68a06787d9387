"""Conversation stores for running several Rasa replicas (see README, "Deploying at scale")."""
