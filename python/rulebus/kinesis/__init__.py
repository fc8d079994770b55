"""Amazon Kinesis Data Streams: streams, shards, records, iterators and consumers."""
