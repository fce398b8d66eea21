# cases_hostile.sh — hostile input against a live server: every case expects a 4xx or a harmless
# answer, and a healthy server afterwards. Sourced by run.sh.
