"""Todo Chatbot backend."""
