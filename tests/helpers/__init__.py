"""What the test modules share: fake clock, HTTP endpoint, reference matcher, hypothesis
strategies, conformance cases, and the delegating store of the store contract suite. No test
module imports another; they import from here."""
