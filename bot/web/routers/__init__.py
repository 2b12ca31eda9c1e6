"""One router per feature; create_app includes them all."""
