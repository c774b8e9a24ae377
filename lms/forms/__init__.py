"""WTForms classes (Flask-WTF, so every form carries a CSRF token)."""
