"""The PPO stage: rollouts, advantages, updates, reporting and the loop around them."""
