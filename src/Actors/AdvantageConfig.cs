using Akka.Actor;
using Akka.Configuration;

namespace Advantage.Actors;

/// <summary>The library's embedded HOCON defaults and the names of its settings.</summary>
public static class AdvantageConfig
{
    /// <summary>Dispatcher path for actors that step environments or run TorchSharp.</summary>
    public const string ComputeDispatcher = "advantage.compute-dispatcher";

    private static readonly Lazy<Config> Reference = new(() =>
    {
        using var stream = typeof(AdvantageConfig).Assembly.GetManifestResourceStream("Advantage.Actors.reference.conf")
            ?? throw new InvalidOperationException("Advantage.Actors.reference.conf is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    });

    /// <summary>The defaults, for composing into a host's configuration.</summary>
    public static Config Default => Reference.Value;

    /// <summary>
    /// Adds the defaults behind the system's own configuration and registers Advantage's binary serializer
    /// for <see cref="IAdvantageMessage"/> (idempotent). Serializers are read when a system starts, so a
    /// system created without <see cref="Default"/> in its configuration gets the serializer here instead.
    /// </summary>
    public static void Install(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        system.Settings.InjectTopLevelFallback(Default);
        var serialization = system.Serialization;
        if (serialization.FindSerializerForType(typeof(IAdvantageMessage)) is not Serialization.AdvantageSerializer)
        {
            var serializer = new Serialization.AdvantageSerializer((ExtendedActorSystem)system);
            serialization.AddSerializer("advantage", serializer);
            serialization.AddSerializationMap(typeof(IAdvantageMessage), serializer);
        }
    }
}
