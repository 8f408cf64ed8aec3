"""What the emulators lack, supplied locally behind the interfaces the AWS code uses."""
