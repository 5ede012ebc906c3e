using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// Hyperparameters measured to work for the built-in environments, in the spirit of rl-baselines3-zoo:
/// a good start that users override field by field. Every preset was measured with
/// <c>bench/Advantage.Bench</c> (<c>solve</c> for CartPole, <c>envs</c> for the others); bench/README.md has the numbers.
/// </summary>
public static class A2CPresets
{
    private static readonly Dictionary<string, A2COptions> Tuned = new(StringComparer.OrdinalIgnoreCase)
    {
        // Measured sweep (bench solve; README's Results has the current steps and seconds per seed): a higher learning
        // rate, GAE 0.9, gamma 0.98 (a shorter horizon CartPole tolerates) and a lighter value loss each helped.
        ["CartPole-v1"] = new A2COptions
        {
            Workers = 2, EnvironmentsPerWorker = 16, LearningRate = 5e-3, Estimator = AdvantageEstimator.Gae, GaeLambda = 0.9,
            Gamma = 0.98, ValueCoefficient = 0.25,
        },
        // rl-baselines3-zoo (normalised observations); reward scaling as well: -83 to -87 at 500k steps over 3 seeds.
        ["Acrobot-v1"] = new A2COptions { NormalizeObservations = true, NormalizeRewards = true },
        // rl-baselines3-zoo (normalised); -117 to -118 at 1M steps over 3 seeds.
        ["MountainCar-v0"] = new A2COptions { NormalizeObservations = true, NormalizeRewards = true },
        // rl-baselines3-zoo's Pendulum settings without gSDE, with gamma 0.95 and log-std -1 measured here: -153 to -202 at 2M steps.
        // The zoo's own a2c.yml settings with gSDE (8 envs x 8 steps, GAE 0.9, gamma 0.99, value 0.4, lr 7e-4 decaying
        // linearly, log std -2, ortho_init=False; separate networks here) measured far worse at the zoo's 1M steps on
        // 2026-12-02 (README, "gSDE"), so this preset stays.
        ["Pendulum-v1"] = new A2COptions
        {
            RolloutLength = 8, Gamma = 0.95, Estimator = AdvantageEstimator.Gae, GaeLambda = 0.9,
            NormalizeObservations = true, NormalizeRewards = true, InitialLogStd = -1,
        },
        // rl-baselines3-zoo's a2c.yml MountainCarContinuous settings: 4 envs x 100 steps, gSDE with a new matrix every 16
        // steps, log std 0, PyTorch's default initialisation, normalised, SB3's A2C defaults otherwise (n-step returns, RMSprop, lr 7e-4); at the zoo's 100k steps 90.9, 91.8, 91.4 on seeds 1-3 (README).
        ["MountainCarContinuous-v0"] = new A2COptions
        {
            Workers = 1, EnvironmentsPerWorker = 4, RolloutLength = 100, NormalizeObservations = true, NormalizeRewards = true,
            SeparateNetworks = true, UseSde = true, SdeSampleFrequency = 16, OrthogonalInit = false,
        },
        // MinAtar's conv body with Atari's entropy bonus: 8.4 to 15.6 at 3M steps (random: 0.39).
        ["MinAtar/Breakout-v1"] = new A2COptions { Body = BodyKind.MinAtarConv, EntropyCoefficient = 0.01 },
    };

    /// <summary>The environment ids that have a measured preset.</summary>
    public static IReadOnlyList<string> Environments => Tuned.Keys.ToArray();

    /// <summary>The measured preset for an environment id, or the plain <see cref="A2COptions"/> defaults for any other id.</summary>
    public static A2COptions For(string environmentId)
    {
        ArgumentNullException.ThrowIfNull(environmentId);
        return Tuned.TryGetValue(environmentId, out var preset) ? preset : new A2COptions();
    }
}
