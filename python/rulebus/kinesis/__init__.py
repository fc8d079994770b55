"""Amazon Kinesis Data Streams: streams, shards, records, iterators and consumers.

The modules, in the order a request meets them:

- ``stream``: :class:`~rulebus.kinesis.stream.Stream` (creating, opening, deleting and describing
  a stream, its retention period), whose API the modules below contribute;
- ``records``: PutRecord and PutRecords (a record's limits, its hash key from the partition key)
  and the Record GetRecords returns;
- ``sequence_numbers``: the numbers records are given, and reading one back;
- ``shards``: shard ids and hash-key ranges, and resharding (SplitShard, MergeShards,
  UpdateShardCount);
- ``iterators``: shard iterators (GetShardIterator's types, the token, its expiry) and GetRecords;
- ``consumers``: named consumers that read every shard, parents first, and checkpoint;
- ``state``: the stream's state in the broker's store, with AWS's errors when it is gone.
"""
