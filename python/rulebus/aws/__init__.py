"""AWS's interface to rulebus: the wire protocols of SQS, SNS, EventBridge and Kinesis.

Requests are parsed and responses written by the service models that botocore ships (the
codec in :mod:`rulebus.aws.protocols`); each service's operations are handlers in
:mod:`rulebus.aws.services` that call a :class:`~rulebus.Broker` scoped to the request's account
and region. ``rulebus.mock_aws`` runs them in process under boto3; ``rulebus serve`` over HTTP.
"""
