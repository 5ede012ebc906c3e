using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

/// <summary>
/// TestKit with a generous default expectation window: the first message from a worker waits for
/// libtorch to load, which takes seconds on a busy 2-core CI machine. A long window costs nothing when
/// tests pass; it only delays a genuine failure.
/// </summary>
public abstract class ActorTestKit() : TestKit("akka.test.single-expect-default = 30s\nakka.loglevel = WARNING");
