namespace Advantage.Learning;

/// <summary>
/// How an assembly of your own makes its algorithms known to tools that load it by path (the CLI's
/// <c>--algorithms MyAlgorithms.dll</c> for <c>train</c>, <c>eval</c>, <c>export</c>, <c>learner</c>, <c>worker</c>,
/// <c>local-cluster</c>; <see cref="Algorithms.RegisterAssembly"/> from code). Those tools were not compiled against your
/// algorithm and so cannot call <see cref="Algorithms.Register"/> for you: implement this in a public class with a public
/// parameterless constructor, and every such class in the assembly is created once and its descriptors registered. A worker
/// node given the same file then knows the run's algorithm by name, so no code travels between nodes.
/// </summary>
/// <example>
/// <code>
/// public sealed class MyAlgorithms : IAlgorithmRegistration
/// {
///     public IEnumerable&lt;AlgorithmDescriptor&gt; Descriptors => [MyAlgorithm.Descriptor];
/// }
/// </code>
/// </example>
public interface IAlgorithmRegistration
{
    /// <summary>The algorithms this assembly adds, each registered as by <see cref="Algorithms.Register"/>.</summary>
    IEnumerable<AlgorithmDescriptor> Descriptors { get; }
}

/// <summary>
/// An assembly named with <c>--algorithms</c> (or <see cref="Algorithms.RegisterAssembly"/>) could not give its algorithms:
/// it is missing, not a .NET assembly, fails to load, exports no <see cref="IAlgorithmRegistration"/>, its registrations give
/// no descriptor, or one is refused (a name taken by another algorithm). The message is one line meant for the user, naming the file.
/// </summary>
public sealed class AlgorithmAssemblyException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public AlgorithmAssemblyException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message for the user and the failure behind it.</summary>
    public AlgorithmAssemblyException(string message, Exception inner) : base(message, inner)
    {
    }

    /// <summary>Creates the exception without a message (serialization frameworks, analyzers).</summary>
    public AlgorithmAssemblyException()
    {
    }
}
