"""The vault: secrets kept only as AES-GCM ciphertext."""
