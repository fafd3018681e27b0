"""gradkit.data"""
