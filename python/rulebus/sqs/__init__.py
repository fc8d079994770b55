"""Amazon SQS: queues (standard and FIFO), their attributes, message attributes and move tasks."""
