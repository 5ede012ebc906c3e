using System.Threading.Channels;
using Advantage.Actors;
using Advantage.Actors.Cluster;
using Advantage.Learning;
using Akka.Actor;
using Akka.Event;
using AkkaCluster = Akka.Cluster.Cluster;

namespace Advantage.Cluster.Tests;

/// <summary>
/// TLS that authenticates, over real loopback sockets: several actor systems in this process, each a node of
/// its own. A node must prove it belongs (the cluster's certificate, or one the cluster's CA issued) before it
/// joins; nobody else gets in, and a taken port fails a node's start.
/// </summary>
public class TlsClusterTests
{
    private static readonly TimeSpan JoinWithin = TimeSpan.FromSeconds(60); // "never hangs"; a loaded machine joins slowly

    /// <summary>
    /// Every warning a node logs from its start, as it comes: a logger named in the node's <c>akka.loggers</c>, so it
    /// runs before the node's transport and cluster do. A subscriber added after <c>ActorSystem.Create</c> could miss a
    /// refusal logged during the first handshake, which a node starts at once.
    /// </summary>
    public sealed class RecordingLogger : ReceiveActor, Akka.Dispatch.IRequiresMessageQueue<ILoggerMessageQueueSemantics>
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ActorSystem, Channel<string>> Recorded = new();

        public RecordingLogger()
        {
            var warnings = For(Context.System).Writer;
            Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
            Receive<Warning>(w => warnings.TryWrite(w.Message?.ToString() ?? ""));
            Receive<LogEvent>(_ => { });
        }

        public static Channel<string> For(ActorSystem system) => Recorded.GetValue(system, _ => Channel.CreateUnbounded<string>());
    }

    private static ChannelReader<string> Warnings(ActorSystem system) => RecordingLogger.For(system).Reader;

    private static ActorSystem Node(ClusterNodeOptions node, string role, int seedPort)
    {
        var config = ClusterConfig.For(node, role, $"127.0.0.1:{seedPort}", ClusterConfig.MinimumFrameSize);
        var loggers = config.GetStringList("akka.loggers").Append(typeof(RecordingLogger).AssemblyQualifiedName!);
        var recorded = Akka.Configuration.ConfigurationFactory.ParseString(
            "akka.loggers = [" + string.Join(", ", loggers.Select(l => "\"" + l + "\"")) + "]");
        return ClusterConfig.CreateSystem(node, recorded.WithFallback(config));
    }

    private static ActorSystem Learner(ClusterNodeOptions node, int port) => Node(node.WithPort(port), ClusterConfig.LearnerRole, port);

    private static int Up(ActorSystem system) => AkkaCluster.Get(system).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (!condition()) await ticks.WaitForNextTickAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Waited {timeout.TotalSeconds:F0} s for {what}.");
        }
    }

    /// <summary>Polls for <paramref name="period"/> and fails the moment <paramref name="never"/> holds.</summary>
    private static async Task Never(Func<bool> never, TimeSpan period, string what)
    {
        var end = DateTime.UtcNow + period;
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (DateTime.UtcNow < end)
        {
            Assert.False(never(), what);
            await ticks.WaitForNextTickAsync();
        }
    }

    private static async Task<string> FirstWarning(ChannelReader<string> warnings, string containing, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                string message = await warnings.ReadAsync(cancel.Token);
                if (message.Contains(containing, StringComparison.Ordinal)) return message;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No warning containing '{containing}' within {timeout.TotalSeconds:F0} s.");
        }
    }

    private static async Task Shutdown(params ActorSystem[] systems)
    {
        foreach (var system in systems) await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Tls_options_validate_the_files_with_one_line_per_bad_field()
    {
        using var files = new TestCertificates();
        var good = files.SelfSigned("node");
        Assert.Empty(good.Problems());
        Assert.False(good.InsecureSkipValidation);
        Assert.Null(good.CertificateAuthorityPath);

        string missing = Path.Combine(files.Folder, "missing.pfx");
        var problems = new ClusterNodeOptions().WithTls(new TlsOptions(missing, "") { CertificateAuthorityPath = Path.Combine(files.Folder, "missing.pem") }).Problems();
        Assert.Equal([$"Tls.CertificatePath = '{missing}' does not exist.", $"Tls.CertificateAuthorityPath = '{Path.Combine(files.Folder, "missing.pem")}' does not exist."], problems);

        string noKey = files.WithoutPrivateKey("public-only");
        Assert.Equal([$"CertificatePath = '{noKey}' holds no private key (a node must prove it owns the certificate it presents)."],
            new TlsOptions(noKey, TestCertificates.Password).Problems());

        var wrongPassword = good with { CertificatePassword = "wrong" };
        var line = Assert.Single(wrongPassword.Problems());
        Assert.StartsWith($"CertificatePath = '{good.CertificatePath}' is not a PKCS#12 (.pfx/.p12) file this password opens", line);

        string notACertificate = files.Write("garbage.pem", "hello"u8.ToArray());
        line = Assert.Single(good.WithCertificateAuthorityPath(notACertificate).Problems());
        Assert.StartsWith($"CertificateAuthorityPath = '{notACertificate}' is not a PEM or DER certificate file", line);

        var (_, ca) = files.Authority("ca");
        Assert.Empty(good.WithCertificateAuthorityPath(ca).Problems());
        Assert.Equal(["CertificateAuthorityPath is set but InsecureSkipValidation = true would ignore it; choose one."],
            good.WithCertificateAuthorityPath(ca).WithInsecureSkipValidation(true).Problems());
        Assert.Empty(good.WithInsecureSkipValidation(true).Problems());

        // A node does not start with a bad file: the reason comes at once, not as a refused handshake later.
        var error = Assert.Throws<OptionsValidationException>(() => ClusterConfig.For(new ClusterNodeOptions().WithTls(new TlsOptions(missing, "")), ClusterConfig.WorkerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize));
        Assert.Contains("Tls.CertificatePath", error.Message);
    }

    [Fact]
    public void The_TLS_config_requires_mutual_authentication_validates_and_never_shares_a_port()
    {
        using var files = new TestCertificates();
        var node = new ClusterNodeOptions().WithTls(files.SelfSigned("node"));
        var config = ClusterConfig.For(node, ClusterConfig.WorkerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize);
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.ssl.require-mutual-authentication"));
        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.ssl.suppress-validation"));
        // The certificate comes with ClusterConfig.CreateSystem's setup; HOCON alone names none, so it cannot start half-configured.
        Assert.Equal("", config.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path", ""));
        Assert.Equal("off", config.GetString("akka.remote.dot-netty.tcp.tcp-reuse-addr"));
        Assert.Equal("off", ClusterConfig.For(new ClusterNodeOptions(), ClusterConfig.WorkerRole, "127.0.0.1:4053", ClusterConfig.MinimumFrameSize).GetString("akka.remote.dot-netty.tcp.tcp-reuse-addr"));
    }

    [Fact]
    public async Task A_second_node_on_a_taken_port_fails_at_start_with_a_message_to_print()
    {
        int port = Ports.Free();
        using var first = Learner(new ClusterNodeOptions(), port);
        var error = Assert.Throws<PortInUseException>(() => Learner(new ClusterNodeOptions(), port));
        Assert.Equal($"port {port} on 127.0.0.1 is already in use", error.Message);
        Assert.Equal((port, "127.0.0.1"), (error.Port, error.Host));
        // The first is unharmed: still the only one listening, still a working seed.
        await WaitUntil(() => Up(first) == 1, JoinWithin, "the first node to be up");
        using var worker = Node(new ClusterNodeOptions(), ClusterConfig.WorkerRole, port);
        await WaitUntil(() => Up(first) == 2, JoinWithin, "a worker to join the first node");
        // A node restarted on the port of one that stopped starts (connections in TIME_WAIT do not hold it back).
        await Shutdown(worker, first);
        using var again = Learner(new ClusterNodeOptions(), port);
        await WaitUntil(() => Up(again) == 1, JoinWithin, "the restarted node to be up");
        await Shutdown(again);
    }

    [Fact]
    public async Task Over_TLS_a_node_with_another_certificate_or_without_TLS_never_joins_and_the_clusters_certificate_does()
    {
        using var files = new TestCertificates();
        var cluster = new ClusterNodeOptions().WithTls(files.SelfSigned("cluster"));
        int port = Ports.Free();
        using var learner = Learner(cluster, port);
        await WaitUntil(() => Up(learner) == 1, JoinWithin, "the learner node to be up");

        // A stranger with a self-signed certificate of its own: refused in both directions, never a member.
        using (var stranger = Node(new ClusterNodeOptions().WithTls(files.SelfSigned("stranger")), ClusterConfig.WorkerRole, port))
        {
            var strangerWarnings = Warnings(stranger); // recorded since the stranger started: its first handshake may already have failed
            string refusal = await FirstWarning(strangerWarnings, "TLS: refused", JoinWithin);
            Assert.Contains("is not the cluster's certificate", refusal);
            await Never(() => AkkaCluster.Get(learner).State.Members.Count > 1 || Up(stranger) > 0, TimeSpan.FromSeconds(5), "the stranger joined");
            await Shutdown(stranger);
        }

        // A node without TLS: its plain TCP is no handshake, it never becomes a member.
        using (var plain = Node(new ClusterNodeOptions(), ClusterConfig.WorkerRole, port))
        {
            await Never(() => AkkaCluster.Get(learner).State.Members.Count > 1 || Up(plain) > 0, TimeSpan.FromSeconds(5), "the plain TCP node joined");
            await Shutdown(plain);
        }

        // The same certificate: joins.
        using var member = Node(cluster, ClusterConfig.WorkerRole, port);
        await WaitUntil(() => Up(learner) == 2 && Up(member) == 2, JoinWithin, "the node with the cluster's certificate to join");
        await Shutdown(member, learner);
    }

    [Fact]
    public async Task With_a_CA_nodes_with_their_own_certificates_from_it_join_and_one_from_another_CA_does_not()
    {
        using var files = new TestCertificates();
        var (authority, pem) = files.Authority("cluster-ca");
        var (otherAuthority, _) = files.Authority("other-ca");
        using (authority)
        using (otherAuthority)
        {
            ClusterNodeOptions Issued(System.Security.Cryptography.X509Certificates.X509Certificate2 by, string name) =>
                new ClusterNodeOptions().WithTls(files.IssuedBy(by, name).WithCertificateAuthorityPath(pem));
            int port = Ports.Free();
            using var learner = Learner(Issued(authority, "learner"), port);
            var learnerWarnings = Warnings(learner);
            await WaitUntil(() => Up(learner) == 1, JoinWithin, "the learner node to be up");

            using (var outsider = Node(Issued(otherAuthority, "outsider"), ClusterConfig.WorkerRole, port))
            {
                // The outsider trusts the learner (same CA file); the learner, as the server, refuses the outsider's certificate.
                string refusal = await FirstWarning(learnerWarnings, "TLS: refused", JoinWithin);
                Assert.Contains("does not chain to a CA in", refusal);
                await Never(() => AkkaCluster.Get(learner).State.Members.Count > 1, TimeSpan.FromSeconds(4), "a node of another CA joined");
                await Shutdown(outsider);
            }

            using var worker = Node(Issued(authority, "worker"), ClusterConfig.WorkerRole, port);
            await WaitUntil(() => Up(learner) == 2, JoinWithin, "a node with its own certificate from the cluster's CA to join");
            await Shutdown(worker, learner);
        }
    }

    [Fact]
    public async Task A_worker_node_with_a_strangers_certificate_never_registers_while_one_with_the_clusters_trains()
    {
        using var files = new TestCertificates();
        var cluster = new ClusterNodeOptions().WithTls(files.SelfSigned("cluster"));
        var options = new TrainingOptions()
            .WithAlgorithm(new A2COptions().WithHiddenSizes([16]).WithWorkers(1).WithEnvironmentsPerWorker(4).WithRolloutLength(5).WithSeed(3))
            .WithMaxSteps(1_000_000_000);
        int port = Ports.Free();
        var progress = new ProgressLog();
        using var system = ClusterLearner.CreateSystem(cluster.WithPort(port), options);
        var run = ClusterLearner.Start(system, options, null, progress.Add);
        ClusterWorkerOptions Worker(ClusterNodeOptions node) => new ClusterWorkerOptions($"127.0.0.1:{port}")
            .WithNode(node).WithLearnerLostAfter(TimeSpan.FromSeconds(2)).WithJoinRetryInterval(TimeSpan.FromMilliseconds(250));

        using var cancel = new CancellationTokenSource();
        var strangerEvents = new System.Collections.Concurrent.ConcurrentQueue<ClusterWorkerEvent>();
        var stranger = ClusterWorker.RunAsync(Worker(new ClusterNodeOptions().WithTls(files.SelfSigned("stranger"))), strangerEvents.Enqueue, cancel.Token);
        await Never(() => AkkaCluster.Get(system).State.Members.Count > 1, TimeSpan.FromSeconds(6), "the stranger's worker node joined or registered");
        var before = await run.GetProgressAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((0, 0L), (before.Workers, before.Version));

        var member = ClusterWorker.RunAsync(Worker(cluster), null, cancel.Token);
        var trained = await progress.WaitFor(p => p.Workers == 1 && p.Version >= 5, TimeSpan.FromSeconds(90), "the worker node with the cluster's certificate to train");
        Assert.Equal(1, trained.Workers);
        Assert.Equal(2, AkkaCluster.Get(system).State.Members.Count);
        run.Stop();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Task.WhenAll(stranger, member).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
