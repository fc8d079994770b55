"""Amazon SNS: topics (standard and FIFO), subscriptions, filter policies and deliveries."""
