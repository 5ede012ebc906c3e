using System.Diagnostics;
using Advantage.Actors;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Bench;

/// <summary>
/// The policy actor under load: N requesting actors each send an <see cref="Act"/> of one observation, wait for its
/// <see cref="Acted"/>, and send the next, for a fixed window. Decisions per second and the latency of each request
/// (send to reply), with the server batching (MaxBatch as given) against answering one request per forward pass
/// (MaxBatch 1). Modes and requester counts are interleaved, repeat after repeat, so a change in the machine's load hits
/// all of them alike; each cell reports the median of its repeats.
/// </summary>
public static class ServeBench
{
    public sealed record Settings(int[] Requesters, int MaxBatch, int[] HiddenSizes, TimeSpan Warmup, TimeSpan Window, int Repeats, string Output)
    {
        /// <summary>Akka HOCON laid over the bench's actor system (e.g. a dispatcher setting to compare); empty for the defaults.</summary>
        public string Engine { get; init; } = "";
    }

    public sealed record Sample(double DecisionsPerSecond, double P50Milliseconds, double P99Milliseconds, double MeanBatch);

    public sealed record Cell(int Requesters, string Mode, int MaxBatch, double DecisionsPerSecond, double P50Milliseconds, double P99Milliseconds,
        double MeanBatch, IReadOnlyList<Sample> Repeats);

    public sealed record Result(string Benchmark, MachineInfo Machine, string Engine, string Network, double WarmupSeconds, double WindowSeconds, int RepeatCount,
        IReadOnlyList<Cell> Cells, string LoadAverageAfter);

    /// <summary>Shared by a cell's requesters: whether to record, and whether to stop.</summary>
    private sealed class Window
    {
        public volatile bool Measuring;
        public volatile bool Stopped;
    }

    private sealed record Collect;

    /// <summary>Asks, waits for the answer, asks again; records send-to-reply times while the window is open.</summary>
    private sealed class Requester : UntypedActor
    {
        private readonly IActorRef server;
        private readonly Window window;
        private readonly float[] observation;
        private readonly List<long> latencies = new(1 << 12);
        private long sentAt;
        private long id;

        public Requester(IActorRef server, Window window, int index)
        {
            this.server = server;
            this.window = window;
            var random = new Random(index);
            observation = [(float)(random.NextDouble() - 0.5), (float)(random.NextDouble() - 0.5), (float)(random.NextDouble() - 0.5), (float)(random.NextDouble() - 0.5)];
        }

        protected override void PreStart() => Send();

        private void Send()
        {
            sentAt = Stopwatch.GetTimestamp();
            server.Tell(new Act(++id, observation));
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Acted:
                    if (window.Measuring) latencies.Add(Stopwatch.GetTimestamp() - sentAt);
                    if (!window.Stopped) Send();
                    break;
                case Collect:
                    Sender.Tell(latencies.ToArray());
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }

    public static int Run(Settings settings)
    {
        var machine = MachineInfo.Capture();
        var spec = new NetworkSpec(4, settings.HiddenSizes, 2, false);
        Checkpoint model;
        using (var network = ActorCriticNetwork.CreateSeeded(spec, 1))
            model = new Checkpoint(spec, new ParameterVector(network).Read(), new Dictionary<string, string>());
        var modes = new[] { ("batched", settings.MaxBatch), ("one-per-pass", 1) };
        var samples = new Dictionary<(int, string), List<Sample>>();
        using var system = settings.Engine.Length == 0 ? Report.NewSystem("serve")
            : ActorSystem.Create("serve", Akka.Configuration.ConfigurationFactory.ParseString(settings.Engine)
                .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")));
        Console.WriteLine($"Policy server, CartPole-sized network [{string.Join(", ", settings.HiddenSizes)}], {settings.Window.TotalSeconds:F1} s windows, load average {machine.LoadAverageBefore}");
        for (int repeat = 0; repeat < settings.Repeats; repeat++)
        {
            foreach (int requesters in settings.Requesters)
            {
                foreach (var (mode, maxBatch) in modes)
                {
                    var sample = Measure(system, model, requesters, maxBatch, settings);
                    Console.WriteLine($"repeat {repeat + 1}  {requesters,5} requesters  {mode,-13} {sample.DecisionsPerSecond,10:N0} decisions/s  p50 {sample.P50Milliseconds,7:F3} ms  p99 {sample.P99Milliseconds,7:F3} ms  mean batch {sample.MeanBatch,7:F1}");
                    if (!samples.TryGetValue((requesters, mode), out var list)) samples[(requesters, mode)] = list = [];
                    list.Add(sample);
                }
            }
        }
        var cells = new List<Cell>();
        foreach (int requesters in settings.Requesters)
        {
            foreach (var (mode, maxBatch) in modes)
            {
                var list = samples[(requesters, mode)];
                cells.Add(new Cell(requesters, mode, maxBatch, Median(list.Select(s => s.DecisionsPerSecond)), Median(list.Select(s => s.P50Milliseconds)),
                    Median(list.Select(s => s.P99Milliseconds)), Median(list.Select(s => s.MeanBatch)), list));
            }
        }
        Console.WriteLine();
        Console.WriteLine("| requesters | mode | decisions/s | p50 ms | p99 ms | mean batch |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        foreach (var c in cells)
            Console.WriteLine($"| {c.Requesters:N0} | {c.Mode} (MaxBatch {c.MaxBatch}) | {c.DecisionsPerSecond:N0} | {c.P50Milliseconds:F3} | {c.P99Milliseconds:F3} | {c.MeanBatch:F1} |");
        string after = MachineInfo.LoadAverage();
        Console.WriteLine($"load average before {machine.LoadAverageBefore}, after {after}");
        Report.Write(settings.Output, new Result("serve", machine, settings.Engine, $"MLP 4 -> [{string.Join(", ", settings.HiddenSizes)}] -> 2 (categorical) + value",
            settings.Warmup.TotalSeconds, settings.Window.TotalSeconds, settings.Repeats, cells, after));
        return 0;
    }

    private static Sample Measure(ActorSystem system, Checkpoint model, int requesters, int maxBatch, Settings settings)
    {
        var server = PolicyServing.Start(system, model, new PolicyServerOptions().WithMaxBatch(maxBatch));
        // The server's first answer loads libtorch's kernels: out of the window.
        server.Ask<Acted>(new Act(0, new float[4]), TimeSpan.FromSeconds(60)).Wait();
        var window = new Window();
        var actors = new IActorRef[requesters];
        for (int i = 0; i < requesters; i++)
        {
            int index = i;
            actors[i] = system.ActorOf(Props.Create(() => new Requester(server, window, index)));
        }
        Thread.Sleep(settings.Warmup);
        var before = server.Ask<PolicyServerStats>(GetPolicyServerStats.Instance, TimeSpan.FromSeconds(30)).Result;
        var clock = Stopwatch.StartNew();
        window.Measuring = true;
        Thread.Sleep(settings.Window);
        window.Measuring = false;
        double seconds = clock.Elapsed.TotalSeconds;
        var after = server.Ask<PolicyServerStats>(GetPolicyServerStats.Instance, TimeSpan.FromSeconds(30)).Result;
        window.Stopped = true;
        var latencies = new List<long>();
        foreach (var actor in actors) latencies.AddRange(actor.Ask<long[]>(new Collect(), TimeSpan.FromSeconds(60)).Result);
        foreach (var actor in actors) system.Stop(actor);
        system.Stop(server);
        latencies.Sort();
        double toMs = 1000.0 / Stopwatch.Frequency;
        double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))] * toMs;
        long batches = after.Batches - before.Batches;
        return new Sample(Report.Round(latencies.Count / seconds, 0), Report.Round(Percentile(0.50), 4), Report.Round(Percentile(0.99), 4),
            Report.Round(batches == 0 ? 0 : (double)(after.Decisions - before.Decisions) / batches, 2));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
