"""Publishing a build: the dataset card (metadata + body), its plots, and the push to the Hugging Face Hub."""
