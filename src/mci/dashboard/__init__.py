"""The executive dashboard (Streamlit): ``mci dashboard`` serves ``app.py``."""
