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
    A2COptions Algorithm,
    string Sources);

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
            new A2COptions
            {
                // zoo a2c.yml Acrobot-v1: 16 environments, normalised observations, ent_coef 0, SB3 defaults
                // otherwise (n_steps 5, lr 7e-4, RMSprop). Reward scaling added: measured on main at -82.6 (seed 1).
                Workers = 2,
                EnvironmentsPerWorker = 8,
                NormalizeObservations = true,
                NormalizeRewards = true,
            },
            "rl-baselines3-zoo a2c.yml Acrobot-v1 (n_envs 16, normalize obs); reward scaling as measured on main"),

        new EnvPreset(
            "MountainCar-v0", Budget: 1_000_000, Target: -120, TargetRule: "at least 2 of 3 seeds", n => (2 * n + 2) / 3,
            new A2COptions
            {
                // zoo a2c.yml MountainCar-v0: 16 environments, normalised observations, ent_coef 0, SB3 defaults.
                // Reward scaling as for Acrobot (the -1 per step reward then has a stable scale for the critic).
                Workers = 2,
                EnvironmentsPerWorker = 8,
                NormalizeObservations = true,
                NormalizeRewards = true,
            },
            "rl-baselines3-zoo a2c.yml MountainCar-v0 (n_envs 16, normalize obs); reward scaling as Acrobot"),

        new EnvPreset(
            "Pendulum-v1", Budget: 2_000_000, Target: -400, TargetRule: "every seed", n => n,
            new A2COptions
            {
                // zoo a2c.yml Pendulum-v1: 8 environments, n_steps 8, GAE 0.9, normalize obs+reward, RMSprop 7e-4.
                // The zoo's gSDE has no equivalent here; without it, its gamma 0.9 with log_std_init -2 stayed
                // near -1100 after 1.2M steps (seed 1), while gamma 0.95 with log-std -1 reached -166 at 2M
                // (first >= -400 at 660k). See bench/README.md for every variant measured.
                Workers = 2,
                EnvironmentsPerWorker = 8,
                RolloutLength = 8,
                Gamma = 0.95,
                Estimator = AdvantageEstimator.Gae,
                GaeLambda = 0.9,
                NormalizeObservations = true,
                NormalizeRewards = true,
                InitialLogStd = -1,
            },
            "rl-baselines3-zoo a2c.yml Pendulum-v1 (n_envs 8, n_steps 8, gae_lambda 0.9, normalize) without gSDE; gamma 0.95 and log-std -1 measured here"),

        new EnvPreset(
            "MinAtar/Breakout-v1", Budget: 3_000_000, Target: 3.91, TargetRule: "every seed (10 x random 0.391)", n => n,
            new A2COptions
            {
                // MinAtar's conv body (Young & Tian 2019: one 3x3 conv, 16 channels, then 128 units);
                // zoo a2c.yml Atari: ent_coef 0.01 and RMSprop lr 7e-4, n_steps 5; 16 environments.
                Workers = 2,
                EnvironmentsPerWorker = 8,
                Body = BodyKind.MinAtarConv,
                EntropyCoefficient = 0.01,
            },
            "MinAtar paper conv body; rl-baselines3-zoo a2c.yml Atari (ent_coef 0.01, RMSprop 7e-4, n_steps 5)"),
    ];

    public static EnvPreset? Find(string id) => All.FirstOrDefault(p => string.Equals(p.EnvironmentId, id, StringComparison.OrdinalIgnoreCase));
}
