using System.Diagnostics;
using Advantage.Actors;
using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Bench;

/// <summary>
/// Round-trip time of one request/response over Akka.Remote on loopback (an echo actor in a child process),
/// with the request and reply sizes of a training round, next to the same exchange inside one process.
/// A synchronous round pays this once per update, so it bounds how close a cluster can get to one process.
/// </summary>
public static class RemoteLatency
{
    public sealed record Settings(int RequestBytes, int ReplyBytes, int Count, string Dispatcher);

    public sealed record Result(string Benchmark, MachineInfo Machine, int RequestBytes, int ReplyBytes, int Count, string Dispatcher,
        Stats InProcess, Stats Remote);

    public sealed record Stats(double MeanMicroseconds, double P50Microseconds, double P90Microseconds, double P99Microseconds);

    private sealed record Ready(IActorRef Echo);

    private static Config SystemConfig(int port) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = WARNING
          actor.provider = remote
          remote.dot-netty.tcp {
            hostname = "127.0.0.1"
            port = {{port}}
            maximum-frame-size = 4000000b
            send-buffer-size = 4000000b
            receive-buffer-size = 4000000b
            batching.enabled = false
          }
        }
        """).WithFallback(AdvantageConfig.Default);

    public static int Run(Settings settings, string output)
    {
        var machine = MachineInfo.Capture();
        using var system = ActorSystem.Create("rtt", SystemConfig(0));
        var local = system.ActorOf(Echo.Props(settings.ReplyBytes, settings.Dispatcher), "local-echo");
        var inProcess = Measure(system, local, settings);
        Console.WriteLine($"in-process : mean {inProcess.MeanMicroseconds,8:F1} us  p50 {inProcess.P50Microseconds,8:F1}  p90 {inProcess.P90Microseconds,8:F1}  p99 {inProcess.P99Microseconds,8:F1}");

        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        var readyProbe = new TaskCompletionSource<IActorRef>();
        system.ActorOf(Props.Create(() => new Waiter(readyProbe)), "waiter");
        var info = new ProcessStartInfo { FileName = Environment.ProcessPath!, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(typeof(RemoteLatency).Assembly.Location);
        foreach (var a in new[] { "remote-rtt-echo", "--parent", $"{address}/user/waiter", "--reply-bytes", settings.ReplyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dispatcher", settings.Dispatcher })
            info.ArgumentList.Add(a);
        using var child = Process.Start(info)!;
        try
        {
            if (!readyProbe.Task.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("The echo process did not report in 60 s.");
            var remote = Measure(system, readyProbe.Task.Result, settings);
            Console.WriteLine($"remote     : mean {remote.MeanMicroseconds,8:F1} us  p50 {remote.P50Microseconds,8:F1}  p90 {remote.P90Microseconds,8:F1}  p99 {remote.P99Microseconds,8:F1}");
            Report.Write(output, new Result("remote-rtt", machine, settings.RequestBytes, settings.ReplyBytes, settings.Count, settings.Dispatcher, inProcess, remote));
        }
        finally
        {
            try { child.Kill(true); child.WaitForExit(5000); } catch (InvalidOperationException) { }
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
        return 0;
    }

    /// <summary>The child side: an echo actor that reports to the parent and lives until killed.</summary>
    public static int EchoProcess(string parent, int replyBytes, string dispatcher)
    {
        using var system = ActorSystem.Create("rtt-echo", SystemConfig(0));
        var echo = system.ActorOf(Echo.Props(replyBytes, dispatcher), "echo");
        system.ActorSelection(parent).Tell(new Ready(echo));
        system.WhenTerminated.Wait();
        return 0;
    }

    private static Stats Measure(ActorSystem system, IActorRef echo, Settings settings)
    {
        var done = new TaskCompletionSource<double[]>();
        system.ActorOf(Pinger.Props(echo, settings, done, settings.Dispatcher));
        var samples = done.Task.GetAwaiter().GetResult();
        Array.Sort(samples);
        double P(double q) => samples[Math.Min(samples.Length - 1, (int)(q * samples.Length))];
        return new Stats(Report.Round(samples.Average(), 1), Report.Round(P(0.5), 1), Report.Round(P(0.9), 1), Report.Round(P(0.99), 1));
    }

    private sealed class Waiter : ReceiveActor
    {
        public Waiter(TaskCompletionSource<IActorRef> ready) => Receive<Ready>(r => ready.TrySetResult(r.Echo));
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo(int replyBytes)
        {
            var reply = new byte[replyBytes];
            Receive<byte[]>(_ => Sender.Tell(reply));
        }

        public static Props Props(int replyBytes, string dispatcher)
        {
            var props = Akka.Actor.Props.Create(() => new Echo(replyBytes));
            return dispatcher == "compute" ? props.WithDispatcher(AdvantageConfig.ComputeDispatcher) : props;
        }
    }

    private sealed class Pinger : ReceiveActor
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly List<double> samples = [];
        private long sentAt;
        private int warmup = 200;

        public Pinger(IActorRef echo, Settings settings, TaskCompletionSource<double[]> done)
        {
            var request = new byte[settings.RequestBytes];
            Receive<byte[]>(_ =>
            {
                long now = clock.ElapsedTicks;
                if (warmup > 0) warmup--;
                else samples.Add((now - sentAt) * 1e6 / Stopwatch.Frequency);
                if (samples.Count >= settings.Count)
                {
                    done.TrySetResult(samples.ToArray());
                    Context.Stop(Self);
                    return;
                }
                sentAt = clock.ElapsedTicks;
                echo.Tell(request);
            });
            sentAt = clock.ElapsedTicks;
            echo.Tell(request);
        }

        public static Props Props(IActorRef echo, Settings settings, TaskCompletionSource<double[]> done, string dispatcher)
        {
            var props = Akka.Actor.Props.Create(() => new Pinger(echo, settings, done));
            return dispatcher == "compute" ? props.WithDispatcher(AdvantageConfig.ComputeDispatcher) : props;
        }
    }
}
