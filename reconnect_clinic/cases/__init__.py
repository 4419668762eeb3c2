"""Cases: a therapist's couples, their two partners, and the dashboard."""
