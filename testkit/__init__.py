"""What the tests and the benchmarks share, so that neither imports the other: fakes of the
services on the internet (Slack, Discord) at their HTTP boundary and of the ports, policies with
people in each role, the stores a contract runs against, labelled corpora, journeys, soaks."""
