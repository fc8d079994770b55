"""Where a topic's publishes go: its subscriptions as routes, worked out once per change of them.

A ``RoutePlan`` is a topic's delivering subscriptions in subscription order, each a ``Route``
that says how it is delivered (its ``TargetKind``). Built under the topic's lock when a publish
finds none, dropped whenever the subscriptions, their settings or the filter policies change.

A standard publish without MessageStructure or MessageGroupId (the usual one) is *selected*: the
engine's answer for its filter policies picks a ``Selection`` of routes, remembered by message
attributes when no policy looks at the body. Other publishes (FIFO topics, MessageStructure,
MessageGroupId, a Python callable subscribed) are *evaluated* route by route
(``RoutePlan.evaluate``).

Subscriptions of the protocols rulebus does not deliver to (email, sms, firehose, and lambda
when the function is not of the broker's region and account: ``rulebus.sns.endpoints``) are no
routes, as pending ones are not: a plan without them is the plan
the other subscriptions make, so every publish reaches those exactly as it would without them
(the native fan-out included), and they never count a delivery or a filtered-out message.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rulebus._core import FanOut, RuleSet
from rulebus.arn import Arn, function_name
from rulebus.sns.endpoints import UNDELIVERED_PROTOCOLS
from rulebus.sns.envelope import TopicSigning, attributes_tail
from rulebus.sns.message_attributes import attributes_key
from rulebus.sns.publish import Prepared
from rulebus.sns.subscription import Subscription, add_filtered, delivery_counter
from rulebus.sqs.queue import Queue
from rulebus.transport import HTTP_PROTOCOLS

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["SELECTIONS_MAX", "Route", "RoutePlan", "Selection", "TargetKind"]

#: Selections (and envelope tails) a plan remembers, by message attributes, before it forgets them all.
SELECTIONS_MAX = 256


class TargetKind(enum.Enum):
    """How a route delivers."""

    #: A standard queue of this broker: the store's plain puts (the native fan-out, or
    #: ``put_plain_many``), SendMessage's checks only for what they refuse.
    PLAIN_QUEUE = "plain queue"
    #: Any other queue (FIFO, another broker's, or by ARN elsewhere): SendMessage's checks.
    QUEUE = "queue"
    #: An HTTP/S endpoint: POSTed on the subscription's lane after Publish returns.
    HTTP = "http"
    #: A Kinesis stream: PutRecord before Publish returns.
    STREAM = "stream"
    #: A Python callable: called with the notification before Publish returns.
    CALLABLE = "callable"
    #: A function of this broker (protocol lambda): invoked asynchronously, as Lambda is.
    FUNCTION = "function"


class Route:
    """One delivering (confirmed) subscription in a route plan, with what its deliveries need."""

    __slots__ = (
        "counter",
        "filtered",
        "index",
        "kind",
        "matched",
        "queue",
        "quoted_url",
        "raw",
        "selections",
        "subscription",
        "target_queue",
    )

    def __init__(self, index: int, subscription: Subscription, kind: TargetKind, queue: str) -> None:
        self.index = index  # its place in subscription order: deliveries keep that order
        self.subscription = subscription
        self.kind = kind
        self.queue = queue  # PLAIN_QUEUE: the queue's name ("" for other kinds)
        self.target_queue: Queue | None = None  # a queue route's Queue, once looked up
        self.raw = subscription.raw_message_delivery
        # Its UnsubscribeURL as JSON: its envelope is envelope.head + quoted_url + envelope.tail.
        self.quoted_url = subscription.quoted_unsubscribe_url
        self.counter = delivery_counter(subscription)
        self.filtered = subscription.filter_policy is not None
        # Filtered routes: publishes of this plan the policy let through (``matches``): those
        # counted here, and the ``uses`` of the remembered selections that match it.
        self.matched = 0
        self.selections: list[Selection] = []

    def matches(self) -> int:
        return self.matched + sum(selection.uses for selection in self.selections)


def _route_index(route: Route) -> int:
    return route.index


class Selection:
    """The routes one selected publish goes to, in subscription order, and the filtered ones
    among them (each counts a match). ``fan_out``: when every route stores the envelope in a
    plain queue (the usual fan-out), the routes as the native fan-out takes them."""

    __slots__ = ("fan_out", "matched", "routes", "uses")

    def __init__(self, routes: tuple[Route, ...], matched: tuple[Route, ...]) -> None:
        self.routes = routes
        self.matched = matched
        self.uses = 0  # publishes that took it while the plan remembered it (see RoutePlan)
        self.fan_out: FanOut | None = None
        if routes and all(route.kind is TargetKind.PLAIN_QUEUE and not route.raw for route in routes):
            self.fan_out = FanOut([(route.queue, route.quoted_url, route.counter) for route in routes])


class RoutePlan:
    """A topic's delivering subscriptions (pending ones and those of protocols rulebus does not
    deliver to left out), as ``routes`` in subscription
    order; for selected publishes also those without a filter policy (``always``) and those with
    one by ARN (the RuleSet's rule names, ``filtered``). With a Python callable subscribed the
    plan is ``general``: callables run user code in the middle of a publish, which may change
    the subscriptions, so every publish is evaluated route by route, as the subscriptions are
    when it is delivered.

    ``selections`` remembers, by message attributes, which routes a publish delivers to and which
    of them count a match: when no route's policy looks at the body, the engine's answer depends
    on the attributes alone (and the RuleSet, which does not change under a plan).

    ``evaluations`` counts the selected publishes that evaluated the filtered routes; a filtered
    route's ``filtered_count`` is ``evaluations - route.matches()`` more than its subscription
    holds (see ``Subscription.filtered_count``). A remembered selection counts the publishes that
    took it (``uses``) rather than each of its routes counting them: a publish then counts once,
    however many subscriptions it matches. All of it only moves under the topic's lock."""

    def __init__(
        self, subscriptions: Sequence[Subscription], context: Context, signing: TopicSigning, fifo: bool
    ) -> None:
        self.region = context.region
        self.account = context.account
        self.signing = signing  # what the envelope says of the topic (the native fan-out's ``topic``)
        self.evaluations = 0
        self.selections: dict[tuple[Any, ...], Selection] = {}
        self.tails: dict[tuple[Any, ...], str] = {}  # envelope tails by message attributes
        routes: list[Route] = []
        for index, subscription in enumerate(subscriptions):
            protocol = subscription.protocol
            if not subscription.pending_confirmation and (
                protocol not in UNDELIVERED_PROTOCOLS or (protocol == "lambda" and self._local(subscription))
            ):
                kind, queue = self._target(subscription, context)
                routes.append(Route(index, subscription, kind, queue))
        self.routes = tuple(routes)
        self.general = fifo or any(route.kind is TargetKind.CALLABLE for route in routes)
        selected = () if self.general else self.routes
        self.always = tuple(route for route in selected if not route.filtered)
        self.filtered = {route.subscription.subscription_arn: route for route in selected if route.filtered}
        self.body_rules = any(
            route.subscription.filter_policy_scope == "MessageBody" for route in self.filtered.values()
        )
        self.unfiltered = Selection(self.always, ())  # what every selected publish gets

    def _target(self, subscription: Subscription, context: Context) -> tuple[TargetKind, str]:
        """How a subscription is delivered, and the plain queue's name."""
        protocol = subscription.protocol
        if protocol == "python":
            return TargetKind.CALLABLE, ""
        if protocol == "lambda":
            return TargetKind.FUNCTION, ""
        if protocol in HTTP_PROTOCOLS:
            return TargetKind.HTTP, ""
        if protocol != "sqs":
            return TargetKind.STREAM, ""
        queue = self._own_queue(subscription.target, context)
        if queue is not None and not queue.endswith(".fifo"):
            return TargetKind.PLAIN_QUEUE, queue
        return TargetKind.QUEUE, ""

    def _local(self, subscription: Subscription) -> bool:
        """Whether a lambda subscription names a function of this broker's region and account
        (it is delivered, or fails as a missing function would); one elsewhere is passed over."""
        arn = Arn.parse(subscription.endpoint)
        return (
            arn is not None
            and function_name(subscription.endpoint) is not None
            and arn.is_in(self.region, self.account)
        )

    def _own_queue(self, target: Any, context: Context) -> str | None:
        """The name of the queue a queue route delivers to when that is a plain ``Queue`` of this
        broker (then its prepare_message and the store's plain puts agree on what a plain
        delivery is, and on its SenderId, the broker's account), else None."""
        if isinstance(target, str):
            arn = Arn.parse(target)
            return arn.named("sqs") if arn is not None and arn.is_in(self.region, self.account) else None
        if type(target) is Queue and target.context is context:
            return target.name
        return None

    def selects(self, prepared: Prepared) -> bool:
        """Whether ``select`` serves this publish (else ``evaluate`` does)."""
        return not self.general and prepared.per_protocol is None and prepared.group_id is None

    def tail(self, prepared: Prepared) -> str:
        """The envelope's text after the UnsubscribeURL: the message attributes (made once per
        attribute values, as they repeat) and the closing brace."""
        attributes = prepared.attributes if prepared.per_protocol is None else {}  # sent_attributes
        if not attributes:
            return attributes_tail(attributes)
        key = prepared.attributes_key
        tail = self.tails.get(key) if key is not None else None
        if tail is None:
            tail = attributes_tail(attributes)
            if key is not None:
                if len(self.tails) >= SELECTIONS_MAX:
                    self.tails.clear()
                self.tails[key] = tail
        return tail

    def select(self, prepared: Prepared, rules: RuleSet) -> Selection:
        """The routes of a selected publish, counted in the plan. Under the topic's lock, so the
        RuleSet is the plan's and no count is lost to a plan being dropped meanwhile."""
        if not self.filtered:
            return self.unfiltered
        key = None
        selection = None
        if not self.body_rules:
            key = prepared.attributes_key
            if key is None:
                key = attributes_key(prepared.attributes)
            selection = self.selections.get(key)
        if selection is None:
            selection = self._selection(rules.matches(prepared.message, prepared.attributes or None))
            if key is not None:
                self._remember(key, selection)
        self.evaluations += 1
        if key is None:  # not remembered: its matches are counted in its routes
            for route in selection.matched:
                route.matched += 1
        else:
            selection.uses += 1
        return selection

    def evaluate(self, prepared: Prepared, rules: RuleSet) -> Iterator[tuple[Route, str]]:
        """Each route an evaluated publish goes to, with the message it receives: one engine call
        per distinct message (MessageStructure gives each protocol its own), a filtered-out
        subscription counted as it is passed over."""
        matches: dict[str, set[str]] = {}
        attributes = prepared.attributes or None
        for route in self.routes:
            message = prepared.message_for(route.subscription.protocol)
            if route.filtered:
                matched = matches.get(message)
                if matched is None:
                    matched = matches[message] = set(rules.matches(message, attributes))
                if route.subscription.subscription_arn not in matched:
                    add_filtered(route.subscription, 1)
                    continue
            yield route, message

    def _remember(self, key: tuple[Any, ...], selection: Selection) -> None:
        """Keep ``selection`` for the publishes with these message attributes; its matches are
        counted by its ``uses`` from now on (see ``Route.matches``)."""
        if len(self.selections) >= SELECTIONS_MAX:
            for known in self.selections.values():  # settle their uses into the routes' counts
                for route in known.matched:
                    route.matched += known.uses
            for route in self.filtered.values():
                route.selections.clear()
            self.selections.clear()
        self.selections[key] = selection
        for route in selection.matched:
            route.selections.append(selection)

    def _selection(self, names: Sequence[str]) -> Selection:
        """Where a publish whose filter policies matched ``names`` goes."""
        hits = tuple(self.filtered[name] for name in names if name in self.filtered)
        if not hits:
            return self.unfiltered
        return Selection(tuple(sorted(self.always + hits, key=_route_index)), hits)

    def settle(self) -> None:
        """Add what the plan counted as filtered out to its subscriptions (the plan is being
        dropped). Under the topic's lock."""
        for route in self.filtered.values():
            add_filtered(route.subscription, self.evaluations - route.matches())

    def unsettled_filtered(self, subscription: Subscription) -> int:
        """What the plan counted as filtered out for ``subscription`` and it does not hold yet."""
        route = self.filtered.get(subscription.subscription_arn)
        if route is None or route.subscription is not subscription:
            return 0
        return self.evaluations - route.matches()
