"""Generated from proto/ by generate_stubs.py; do not edit."""
