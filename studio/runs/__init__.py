"""Run history, no Keras: the SQLite store (``store``), the recorder a training job is given
(``recorder``), the one history-CSV format (``history``) and run comparison (``compare``)."""
