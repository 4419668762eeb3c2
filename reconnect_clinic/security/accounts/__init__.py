"""Therapists' accounts and sign-in: passwords, the second factor, session timeouts."""
