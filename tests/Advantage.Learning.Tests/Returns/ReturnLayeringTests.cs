using Advantage.Learning.Testing;

namespace Advantage.Learning.Tests.Returns;

using Returns = Advantage.Learning.Returns;

public class ReturnLayeringTests
{
    [Fact]
    public void CoreLibrary_DoesNotDependOnFsCheck()
    {
        // FsCheck belongs to the testing kit only; the learner must not drag it (and FSharp.Core) into a training process.
        var references = typeof(Returns).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.DoesNotContain("FsCheck", references);
        Assert.Contains("FsCheck", typeof(ReturnCase).Assembly.GetReferencedAssemblies().Select(a => a.Name));
    }
}
