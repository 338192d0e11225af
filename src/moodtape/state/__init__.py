"""State that several moodtape instances share, in Redis, or in this process when Redis is not set.

Everything here is short-lived and may be lost without harm beyond a moment's inconvenience: rate
limit counters, provider answers, the day's YouTube search count, webcam smoothing, each session's
latest lists. Durable data (history, feedback) lives in the store, never here.

Each kind of state sits behind a small interface with an in-process default, so that without
``MOODTAPE_REDIS_URL`` nothing changes, and with it any instance can answer any request.
"""
