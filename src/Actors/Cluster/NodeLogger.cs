using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Advantage.Actors.Cluster;

/// <summary>
/// The standard-output logger of a cluster node (<c>akka.loggers</c> in <see cref="ClusterConfig.For"/>). Akka's own prints
/// every network condition with its stack trace: a peer that leaves or dies ("Disassociated"), a refused TLS handshake (about
/// 24 lines a second while a node keeps retrying), a refused connection. Those are conditions of the network, not bugs, and
/// the node's own lines already say what they mean ("worker node ... is unreachable", "the learner stayed unreachable").
/// So here:
/// <list type="bullet">
/// <item>a network event (from Akka.Remote or DotNetty, or caused by a socket, TLS or association failure) is one line: its
/// first line and the innermost cause's message, never a stack trace;</item>
/// <item>a peer's disassociation is Info (shown only when <c>akka.loglevel</c> is INFO or lower);</item>
/// <item>TLS failures are printed once, then at most one line per 10 s with how many were left out; a worker node (setting
/// <c>advantage.node-logger.quiet-tls</c>) prints none, because it reports them itself and gives up after a bound;</item>
/// <item>everything else prints as Akka would, stack traces included: those are bugs worth the trace.</item>
/// </list>
/// </summary>
internal sealed class NodeLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();

    public NodeLogger()
    {
        var settings = Context.System.Settings;
        var filter = new NodeLogFilter(settings.Config.GetBoolean("advantage.node-logger.quiet-tls", false), Logging.LogLevelFor(settings.LogLevel));
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (filter.Line(e, clock.Elapsed) is not { } line) return;
            try
            {
                Console.Out.WriteLine(line);
            }
            catch (IOException)
            {
                // A closed console (the parent went away) must not take the logger down.
            }
        });
    }

    internal enum Kind
    {
        Other,
        Network,
        Disassociation,
        Tls,
    }

    /// <summary>What an event is about, from its text, its source and its cause.</summary>
    internal static Kind Classify(LogEvent e)
    {
        string message = e.Message?.ToString() ?? "";
        var causes = Causes(e.Cause).ToList();
        if (message.StartsWith("TLS", StringComparison.Ordinal) || message.Contains("TLS handshake fail", StringComparison.Ordinal)
            || causes.Any(c => c is System.Security.Authentication.AuthenticationException))
            return Kind.Tls;
        if (message.Contains("Disassociated", StringComparison.Ordinal) || message.Contains("ShutDownAssociation", StringComparison.Ordinal)
            || causes.Any(c => c.GetType().Name is "EndpointDisassociatedException" or "ShutDownAssociation"))
            return Kind.Disassociation;
        string source = e.LogClass?.Namespace ?? "";
        if (source.StartsWith("Akka.Remote", StringComparison.Ordinal) || source.StartsWith("DotNetty", StringComparison.Ordinal)
            || causes.Any(c => c is System.Net.Sockets.SocketException || (c.GetType().Namespace ?? "").StartsWith("Akka.Remote", StringComparison.Ordinal)
                || (c.GetType().Namespace ?? "").StartsWith("DotNetty", StringComparison.Ordinal)))
            return Kind.Network;
        return Kind.Other;
    }

    internal static IEnumerable<Exception> Causes(Exception? cause)
    {
        for (var c = cause; c is not null; c = c.InnerException)
        {
            yield return c;
            if (c is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(i => Causes(i)))
                    yield return inner;
        }
    }
}

/// <summary>The lines <see cref="NodeLogger"/> prints for each event, given the time; pure apart from its TLS count, so tests drive the clock.</summary>
internal sealed class NodeLogFilter(bool quietTls, LogLevel threshold)
{
    private static readonly TimeSpan TlsInterval = TimeSpan.FromSeconds(10);
    private TimeSpan? lastTls;
    private int tlsLeftOut;

    /// <summary>The line to print for <paramref name="e"/> at <paramref name="now"/>, or null to print nothing.</summary>
    public string? Line(LogEvent e, TimeSpan now)
    {
        var kind = NodeLogger.Classify(e);
        switch (kind)
        {
            case NodeLogger.Kind.Disassociation:
                return threshold > LogLevel.InfoLevel ? null : OneLine(e, LogLevel.InfoLevel);
            case NodeLogger.Kind.Tls:
                if (quietTls) return null;
                if (lastTls is { } last && now - last < TlsInterval)
                {
                    tlsLeftOut++;
                    return null;
                }
                string line = OneLine(e, e.LogLevel());
                if (tlsLeftOut > 0) line += $" ({tlsLeftOut} more TLS failures in the last {(now - lastTls!.Value).TotalSeconds:F0} s not shown)";
                tlsLeftOut = 0;
                lastTls = now;
                return line;
            case NodeLogger.Kind.Network:
                return OneLine(e, e.LogLevel());
            default:
                return Full(e);
        }
    }

    private static string Prefix(LogEvent e, LogLevel level) =>
        $"[{Label(level)}][{e.Timestamp:MM/dd/yyyy HH:mm:ss.fff}Z][Thread {e.Thread.ManagedThreadId:0000}][{e.LogSource}]";

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "DEBUG",
        LogLevel.InfoLevel => "INFO",
        LogLevel.WarningLevel => "WARNING",
        _ => "ERROR",
    };

    /// <summary>The event's first line and its innermost cause's first line: what happened, without a stack trace.</summary>
    private static string OneLine(LogEvent e, LogLevel level)
    {
        string message = FirstLine(e.Message?.ToString() ?? "");
        var innermost = NodeLogger.Causes(e.Cause).LastOrDefault();
        if (innermost is not null)
        {
            string why = FirstLine(innermost.Message);
            if (!message.Contains(why, StringComparison.Ordinal)) message += $" ({innermost.GetType().Name}: {why})";
        }
        return $"{Prefix(e, level)} {message}";
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).TrimEnd();
    }

    private static string Full(LogEvent e)
    {
        string line = $"{Prefix(e, e.LogLevel())} {e.Message}";
        return e.Cause is null ? line : $"{line}{Environment.NewLine}Cause: {e.Cause}";
    }
}
