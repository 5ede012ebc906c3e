using System.Threading.Channels;
using Advantage.Actors;
using Advantage.Actors.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Advantage.Cluster.Tests;

/// <summary>A message that a lying sender serializes as garbage under a real Advantage manifest.</summary>
public sealed record Garbage(int Length);

/// <summary>
/// Claims Advantage's identifier: real bytes for real messages, random bytes under manifest "P2" for
/// <see cref="Garbage"/>. Lets a test put garbage on the wire exactly where a corrupt frame would be.
/// </summary>
public sealed class LyingSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private readonly AdvantageSerializer real = new(system);

    public override int Identifier => AdvantageSerializer.Id;

    public override string Manifest(object o) => o is Garbage ? "P2" : real.Manifest(o);

    public override byte[] ToBinary(object obj)
    {
        if (obj is not Garbage g) return real.ToBinary(obj);
        var bytes = new byte[g.Length];
        new Random(g.Length).NextBytes(bytes);
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest) => real.FromBinary(bytes, manifest);
}

public class WireTests
{
    private sealed class Sink : ReceiveActor
    {
        public Sink(ChannelWriter<object> received) => ReceiveAny(m => received.TryWrite(m));
    }

    [Fact]
    public async Task Garbage_under_an_Advantage_manifest_is_dropped_and_the_connection_stays_up()
    {
        const string remote = "akka.actor.provider = remote\nakka.loglevel = ERROR\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }";
        using var receiver = ActorSystem.Create("receiver", ConfigurationFactory.ParseString(remote).WithFallback(AdvantageConfig.Default));
        using var sender = ActorSystem.Create("sender", ConfigurationFactory.ParseString(remote + """

            akka.actor {
              serializers.liar = "Advantage.Cluster.Tests.LyingSerializer, Advantage.Cluster.Tests"
              serialization-bindings {
                "Advantage.Actors.IAdvantageMessage, Advantage.Actors" = liar
                "Advantage.Cluster.Tests.Garbage, Advantage.Cluster.Tests" = liar
              }
              serialization-identifiers { "Advantage.Cluster.Tests.LyingSerializer, Advantage.Cluster.Tests" = 417 }
            }
            """));
        var received = Channel.CreateUnbounded<object>();
        receiver.ActorOf(Props.Create(() => new Sink(received.Writer)), "sink");
        var address = ((ExtendedActorSystem)receiver).Provider.DefaultAddress;
        var sink = await sender.ActorSelection(address + "/user/sink").ResolveOne(TimeSpan.FromSeconds(30));

        sink.Tell(new RegisterWorker(1, 2));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(new RegisterWorker(1, 2), await received.Reader.ReadAsync(timeout.Token));
        foreach (int length in new[] { 0, 3, 17, 4096 }) sink.Tell(new Garbage(length));
        sink.Tell(new RegisterWorker(3, 4));
        // The garbage never arrives; the valid message after it does, over the same association.
        Assert.Equal(new RegisterWorker(3, 4), await received.Reader.ReadAsync(timeout.Token));
        Assert.False(received.Reader.TryRead(out _));
    }
}
