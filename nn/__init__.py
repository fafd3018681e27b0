"""gradkit.nn"""
