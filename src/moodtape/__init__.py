"""moodtape: emotion-aware music and video recommendations from a face."""
