using Advantage.Learning;
using Advantage.Learning.Networks;

namespace Advantage.Bench;

/// <summary>
/// One environment of the learning-quality benchmark: its tuned hyperparameters, step budget and target
/// (issue 4). <see cref="SeedsRequired"/> is how many of the seeds must reach the target within the budget.
/// </summary>
public sealed record EnvPreset(
    string EnvironmentId,
    long Budget,
    double Target,
    string TargetRule,
    Func<int, int> SeedsRequired,
    AlgorithmOptions Algorithm,
    string Sources)
{
    /// <summary>
    /// Episodes of deterministic evaluation (argmax or Gaussian mean, own environments) of the final policy; 0 judges the
    /// target on the mean of the last 100 training episodes instead (the A2C table's rule).
    /// </summary>
    public int EvaluationEpisodes { get; init; }
}

/// <summary>
/// The tuned presets. Where a setting is not listed it is the library default, which follows
/// Stable-Baselines3's A2C: RMSprop (alpha 0.99, eps 1e-5), lr 7e-4, gamma 0.99, n-step returns, rollout 5,
/// value coefficient 0.5, gradient clip 0.5, entropy 0, hidden 64-64 tanh.
/// </summary>
/// <remarks>
/// References: rl-baselines3-zoo <c>hyperparams/a2c.yml</c> (SB3's tuned A2C; its published model cards
/// list the same values: Acrobot-v1 and MountainCar-v0 <c>n_envs: 16, normalize: {norm_obs: true,
/// norm_reward: false}, ent_coef: 0.0</c>; Pendulum-v1 <c>n_envs: 8, n_steps: 8, gamma: 0.9,
/// gae_lambda: 0.9, vf_coef: 0.4, use_sde: true, log_std_init: -2, ortho_init: false, lr lin_7e-4,
/// normalize: true</c>; Atari <c>n_envs: 16, ent_coef: 0.01, vf_coef: 0.25</c>). The library has no gSDE,
/// no learning-rate schedule and no orthogonal-init switch, so those entries are replaced by what was
/// measured here (see bench/README.md, "envs").
/// </remarks>
public static class EnvPresets
{
    public static readonly IReadOnlyList<EnvPreset> All =
    [
        new EnvPreset(
            "Acrobot-v1", Budget: 500_000, Target: -100, TargetRule: "every seed", n => n,
            A2CPresets.For("Acrobot-v1"),
            "rl-baselines3-zoo a2c.yml Acrobot-v1 (n_envs 16, normalize obs); reward scaling as measured on main"),

        new EnvPreset(
            "MountainCar-v0", Budget: 1_000_000, Target: -120, TargetRule: "at least 2 of 3 seeds", n => (2 * n + 2) / 3,
            A2CPresets.For("MountainCar-v0"),
            "rl-baselines3-zoo a2c.yml MountainCar-v0 (n_envs 16, normalize obs); reward scaling as Acrobot"),

        new EnvPreset(
            "Pendulum-v1", Budget: 2_000_000, Target: -400, TargetRule: "every seed", n => n,
            A2CPresets.For("Pendulum-v1"),
            "rl-baselines3-zoo a2c.yml Pendulum-v1 (n_envs 8, n_steps 8, gae_lambda 0.9, normalize) without gSDE; gamma 0.95 and log-std -1 measured here"),

        new EnvPreset(
            "MinAtar/Breakout-v1", Budget: 3_000_000, Target: 3.91, TargetRule: "every seed (10 x random 0.391)", n => n,
            A2CPresets.For("MinAtar/Breakout-v1"),
            "MinAtar paper conv body; rl-baselines3-zoo a2c.yml Atari (ent_coef 0.01, RMSprop 7e-4, n_steps 5)"),
    ];

    /// <summary>
    /// PPO on <see cref="PpoPresets"/> (rl-baselines3-zoo's ppo.yml) for the zoo's budgets, judged as issue 13 asks: the
    /// mean of 100 deterministic evaluation episodes of the final policy, on each of the seeds, against the zoo's PPO
    /// scores (Acrobot-v1 -73.5, MountainCar-v0 -110) or the bars (Pendulum-v1 -250, MountainCarContinuous-v0 80,
    /// whose zoo scores use gSDE, which this library does not have), and A2C's Breakout table at the same 3M steps.
    /// </summary>
    public static readonly IReadOnlyList<EnvPreset> Ppo =
    [
        new EnvPreset("Acrobot-v1", Budget: 1_000_000, Target: -73.5, TargetRule: "every seed (zoo PPO score)", n => n,
            PpoPresets.For("Acrobot-v1"), "rl-baselines3-zoo ppo.yml Acrobot-v1 (16 envs, n_steps 256, 4 epochs, batch 64, GAE 0.94, normalize)") { EvaluationEpisodes = 100 },
        new EnvPreset("MountainCar-v0", Budget: 1_000_000, Target: -110, TargetRule: "every seed (zoo PPO score)", n => n,
            PpoPresets.For("MountainCar-v0"), "rl-baselines3-zoo ppo.yml MountainCar-v0 (16 envs, n_steps 16, 4 epochs, batch 64, GAE 0.98, normalize)") { EvaluationEpisodes = 100 },
        new EnvPreset("Pendulum-v1", Budget: 100_000, Target: -250, TargetRule: "every seed (issue 13)", n => n,
            PpoPresets.For("Pendulum-v1"), "rl-baselines3-zoo ppo.yml Pendulum-v1 (4 envs, n_steps 1024, 10 epochs, batch 64, gamma 0.9, lr 1e-3) without gSDE") { EvaluationEpisodes = 100 },
        new EnvPreset("MountainCarContinuous-v0", Budget: 20_000, Target: 80, TargetRule: "every seed (issue 13)", n => n,
            PpoPresets.For("MountainCarContinuous-v0"), "rl-baselines3-zoo ppo.yml MountainCarContinuous-v0 (1 env, n_steps 8, 10 epochs, log std -3.29, normalize) without gSDE") { EvaluationEpisodes = 100 },
        new EnvPreset("MinAtar/Breakout-v1", Budget: 3_000_000, Target: 3.91, TargetRule: "every seed (10 x random 0.391); compare with A2C at 3M", n => n,
            PpoPresets.For("MinAtar/Breakout-v1"), "rl-baselines3-zoo ppo.yml Atari entry on the MinAtar conv body") { EvaluationEpisodes = 100 },
    ];

    public static EnvPreset? Find(string id) => Find(All, id);

    public static EnvPreset? Find(IReadOnlyList<EnvPreset> presets, string id) => presets.FirstOrDefault(p => string.Equals(p.EnvironmentId, id, StringComparison.OrdinalIgnoreCase));
}
