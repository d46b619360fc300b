"""Text for chat: LaTeX math as Unicode, and pictures where Unicode falls short."""

from bot.render.math import THEMES, needs_image, render_math_png, to_chat_text

__all__ = ["THEMES", "needs_image", "render_math_png", "to_chat_text"]
