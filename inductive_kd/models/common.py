"""Helpers shared by the sequence models (lstm.py, transformer.py)."""
import jax.numpy as jnp


def check_tokens(x, name: str) -> None:
  """Token batches must be integer [batch, length]; anything else is a one-line error."""
  if x.ndim != 2:
    raise ValueError(f'{name} expects int token ids of shape [batch, length]; got shape '
                     f'{x.shape}. Add or remove a batch axis.')
  if not jnp.issubdtype(x.dtype, jnp.integer):
    raise ValueError(f'{name} expects integer token ids; got dtype {x.dtype}. '
                     'Cast the batch with .astype(np.int32).')
