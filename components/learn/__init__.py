"""The Learn page's pieces: the lessons' progress in the session, the list of lessons and one lesson."""
