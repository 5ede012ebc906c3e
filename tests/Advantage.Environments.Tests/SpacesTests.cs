using Advantage.Environments;

namespace Advantage.Environments.Tests;

public class SpacesTests
{
    [Fact]
    public void DiscreteFlatSizeIsOne() => Assert.Equal(1, new Discrete(3).FlatSize);

    [Fact]
    public void DiscreteNamesItself() => Assert.Equal("Discrete(2)", new Discrete(2).ToString());
}
