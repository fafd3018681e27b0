"""gradkit.optim"""
