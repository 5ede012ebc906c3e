using System.Net.Sockets;
using System.Text;
using Advantage.Actors.Cluster;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class LaneFrameTests
{
    [Fact]
    public void A_frame_reads_back_as_written_and_a_clean_end_reads_as_null()
    {
        byte[] payload = [1, 2, 3, 250];
        using var stream = new MemoryStream([.. LaneFrames.Encode("RC1", payload), .. LaneFrames.Encode("P1", [])]);
        var first = LaneFrames.Read(stream, 1 << 20);
        Assert.Equal("RC1", first!.Value.Manifest);
        Assert.Equal(payload, first.Value.Payload);
        var second = LaneFrames.Read(stream, 1 << 20);
        Assert.Equal(("P1", 0), (second!.Value.Manifest, second.Value.Payload.Length));
        Assert.Null(LaneFrames.Read(stream, 1 << 20));
    }

    [Fact]
    public void Cut_oversized_and_manifestless_frames_are_refused()
    {
        byte[] frame = LaneFrames.Encode("RC1", new byte[100]);
        for (int cut = 1; cut < frame.Length; cut++)
            Assert.Throws<InvalidDataException>(() => LaneFrames.Read(new MemoryStream(frame[..cut]), 1 << 20));
        Assert.Contains("outside [2, 50]", Assert.Throws<InvalidDataException>(() => LaneFrames.Read(new MemoryStream(frame), 50)).Message);
        byte[] noManifest = [.. BitConverter.GetBytes(2), 0, 7];
        Assert.Contains("manifest length 0", Assert.Throws<InvalidDataException>(() => LaneFrames.Read(new MemoryStream(noManifest), 100)).Message);
    }
}

/// <summary>Both ends of the data lane in one remote-enabled actor system on loopback.</summary>
public class DataLaneTests() : TestKit("akka.actor.provider = remote\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\nakka.test.single-expect-default = 30s\nakka.loglevel = WARNING")
{
    private const long MaxFrame = 1 << 20;

    private ExtendedActorSystem Extended => (ExtendedActorSystem)Sys;

    private LearnerLane OpenLane(IActorRef learner)
    {
        var lane = new LearnerLane(Extended, "127.0.0.1", MaxFrame);
        lane.Start(learner);
        return lane;
    }

    private WorkerLane Connect(LearnerLane lane, IActorRef worker)
    {
        var workerLane = WorkerLane.Open(new LaneEndpoint("127.0.0.1", lane.Port, MaxFrame), Extended, worker, Logging.GetLogger(Sys, "test"));
        AwaitCondition(() => workerLane.Ready && lane.Connected == 1);
        return workerLane;
    }

    [Fact]
    public void Rollouts_arrive_as_sent_by_their_worker_and_parameters_reach_the_worker()
    {
        using var lane = OpenLane(TestActor);
        var worker = CreateTestProbe();
        using var workerLane = Connect(lane, worker.Ref);

        var rollout = Fixtures.Rollout(workerId: 4, version: 7);
        Assert.True(workerLane.TrySend(new RolloutCollected(rollout)));
        var received = ExpectMsg<RolloutCollected>();
        Assert.Equal(worker.Ref, LastSender);
        Assert.Equal((4, 7L), (received.Data.WorkerId, received.Data.Version));
        Assert.Equal(rollout.Observations, received.Data.Observations);

        var parameters = new Parameters(8, [1f, 2f, 3f]);
        Assert.True(lane.TrySend(worker.Ref, lane.Frame(parameters)));
        var back = worker.ExpectMsg<Parameters>();
        Assert.Equal(8L, back.Version);
        Assert.Equal([1f, 2f, 3f], back.Values);
    }

    [Fact]
    public void A_payload_that_does_not_deserialize_is_dropped_and_counted_and_the_lane_stays_up()
    {
        using var lane = OpenLane(TestActor);
        var worker = CreateTestProbe();
        using var client = new TcpClient("127.0.0.1", lane.Port);
        var stream = client.GetStream();
        stream.Write(LaneFrames.Encode(LaneFrames.Hello, Encoding.UTF8.GetBytes(Akka.Serialization.Serialization.SerializedActorPath(worker.Ref))));
        var garbage = new byte[64];
        new Random(5).NextBytes(garbage);
        stream.Write(LaneFrames.Encode("RC1", garbage));
        var serializer = new Serialization.AdvantageSerializer(Extended);
        stream.Write(LaneFrames.Encode("RC1", serializer.ToBinary(new RolloutCollected(Fixtures.Rollout(1, 2)))));
        Assert.Equal(1, ExpectMsg<RolloutCollected>().Data.WorkerId);
        Assert.Equal(1, lane.Malformed);
        // Only rollouts travel to the learner this way; anything else is dropped.
        stream.Write(LaneFrames.Encode("ST1", serializer.ToBinary(StopTraining.Instance)));
        stream.Write(LaneFrames.Encode("RC1", serializer.ToBinary(new RolloutCollected(Fixtures.Rollout(2, 2)))));
        Assert.Equal(2, ExpectMsg<RolloutCollected>().Data.WorkerId);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_dropped_worker_loses_its_lane_and_both_ends_report_it_so_callers_fall_back_to_tell()
    {
        using var lane = OpenLane(TestActor);
        var worker = CreateTestProbe();
        using var workerLane = Connect(lane, worker.Ref);
        lane.Drop(worker.Ref);
        Assert.Equal(0, lane.Connected);
        Assert.False(lane.TrySend(worker.Ref, lane.Frame(new Parameters(1, [1f]))));
        AwaitCondition(() => workerLane.Broken);
        Assert.False(workerLane.TrySend(new RolloutCollected(Fixtures.Rollout(0, 1))));
    }

    [Fact]
    public void A_worker_that_cannot_reach_a_lane_keeps_sending_through_akka()
    {
        int closedPort;
        using (var listener = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var workerLane = WorkerLane.Open(new LaneEndpoint("127.0.0.1", closedPort, MaxFrame), Extended, TestActor, Logging.GetLogger(Sys, "test"));
        AwaitCondition(() => workerLane.Broken);
        Assert.False(workerLane.Ready);
        Assert.False(workerLane.TrySend(new RolloutCollected(Fixtures.Rollout(0, 1))));
    }
}
